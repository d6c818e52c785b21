"""``python -m sklearn_itds`` runs the ``sklearn-itds`` command line."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
