"""stutor: the helper package of the course "Sentence Transformers, hands-on".

Each module holds one concept and names the notebook that teaches it (docs/architecture.md has
the map and the path of the data through the package):

- ``stutor.runtime``: quiet mode for tests, progress bars for people (every notebook)
- ``stutor.memory``: the container's memory limit, each notebook's measured need, the other kernels (set-up cells)
- ``stutor.checks``: every argument check, shared by the functions and the commands (behind every notebook's calls)
- ``stutor.models``: which model the course uses, and building one from modules (notebook 01 on)
- ``stutor.layers``: the Transformer module against the raw Hugging Face model (notebook 02)
- ``stutor.costs``: cross-encoder against bi-encoder cost, measured (notebook 03)
- ``stutor.evaluation``: Spearman scores of sentence-embedding methods (notebook 03)
- ``stutor.cases``: the four training data formats and their detection (notebooks 04, 05)
- ``stutor.schemas``: converters from real Hub schemas into the trainer's layout (notebook 04)
- ``stutor.sources``: reading data files (one reader per format), the Hub, the fallback rule (notebook 03)
- ``stutor.data``: the bundled tutorial data, everything derived from it, the online loaders (notebooks 01-09)
- ``stutor.losses``: which loss fits which format, and building it (notebook 05)
- ``stutor.classification``: embeddings against fine-tuned classifiers (notebook 06)
- ``stutor.stats``: paired bootstrap intervals and exact McNemar tests for every comparison (notebooks 06-09)
- ``stutor.retrieval``: scoring a search per query, and approximate or cheap search against exact (notebooks 08, 09)
- ``stutor.triplets``: held-out triplets, TripletEvaluator, distances (notebook 07)
- ``stutor.training``: the checked training loop and its history (notebooks 05, 07, 08)
- ``stutor.runs``: a training run's data, option checks and resume (``stutor-train``)
- ``stutor.streaming``: encoding files of any size, resumable, in several processes (``stutor-encode``)
- ``stutor.exercises``: feedback on the exercises at the end of each notebook (one module per chapter)
- ``stutor.cli``: the ``stutor-train`` and ``stutor-encode`` commands, which only parse and call the library

Import the submodules you need; importing ``stutor`` itself is cheap.
"""

from __future__ import annotations

__version__ = "0.1.0"
