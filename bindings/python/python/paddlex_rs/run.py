"""``python -m paddlex_rs.run script.py [args...]``: runs a PaddleX script
unchanged, with ``paddlex`` mapped to ``paddlex_rs`` for that script only
(nothing is installed; other processes are untouched)."""

import runpy
import sys


def main(argv=None):
    """Runs ``argv[0]`` as ``__main__`` with ``argv`` as its ``sys.argv``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        sys.stderr.write("usage: python -m paddlex_rs.run script.py [args...]\n")
        return 2
    import paddlex_rs

    paddlex_rs.install_as_paddlex()
    sys.argv = argv
    runpy.run_path(argv[0], run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
