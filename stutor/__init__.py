"""stutor: the helper package of the course "Sentence Transformers, hands-on".

Each module holds one concept and names the notebook that teaches it:

- ``stutor.models``: which model the course uses, and building a model from modules (notebook 01)
- ``stutor.layers``: the Transformer module against the raw Hugging Face model (notebook 02)
- ``stutor.data``: the bundled tutorial data and the online loaders (notebooks 01-07)
- ``stutor.runtime``: quiet mode for tests, progress bars for people

Import the submodules you need; importing ``stutor`` itself is cheap.
"""

from __future__ import annotations

__version__ = "0.1.0"
