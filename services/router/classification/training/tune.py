"""`python -m services.router.classification.training.tune`: the item head's C on the development split.

Prints the dev summary per C; the chosen value goes into `config.C_ITEM` by hand (README records it).
"""

from __future__ import annotations

import json
import sys

from threadpoolctl import threadpool_limits

from services.router.classification import corpus
from services.router.classification.training import config
from services.router.classification.training.train import build


def main(argv: list[str] | None = None) -> int:
    values = [float(v) for v in (argv if argv is not None else sys.argv[1:])] or [10.0, 20.0, 50.0, 100.0]
    for c in values:
        config.C_ITEM = c
        with threadpool_limits(limits=1):
            document, _ = build(corpus.corpus_files())
        print(json.dumps({"C": c, "settings": document["settings"], "dev": document["dev_report"]},
                         ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
