"""stutor: the helper package of the course "Sentence Transformers, hands-on".

Each module holds one concept and names the notebook that teaches it:

- ``stutor.models``: which model the course uses, and building one from modules (notebook 01)
- ``stutor.texts`` and ``stutor.checks``: checks on the texts and numbers passed in (notebook 01 on)
- ``stutor.layers``: the Transformer module against the raw Hugging Face model (notebook 02)
- ``stutor.costs``: cross-encoder against bi-encoder cost, measured (notebook 03)
- ``stutor.evaluation``: Spearman scores of sentence-embedding methods, STS files (notebook 03)
- ``stutor.cases``: the four training data formats and converters from Hub schemas (notebook 04)
- ``stutor.losses``: which loss fits which format, and building it (notebook 05)
- ``stutor.classification``: embeddings against fine-tuned classifiers (notebook 06)
- ``stutor.triplets``: held-out triplets, TripletEvaluator, distances (notebook 07)
- ``stutor.training``: the checked training loop and its history (notebook 07)
- ``stutor.exercises``: feedback on the exercises at the end of each notebook
- ``stutor.data``: the bundled tutorial data and the online loaders (notebooks 01-07)
- ``stutor.runtime``: quiet mode for tests, progress bars for people
- ``stutor.train`` and ``stutor.encode``: command lines for training (torchrun-ready) and
  streaming encode of large files (``stutor.streaming``); see the README

Import the submodules you need; importing ``stutor`` itself is cheap.
"""

from __future__ import annotations

__version__ = "0.1.0"
