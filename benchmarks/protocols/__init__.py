"""One module per protocol of PROTOCOLS.md (``pN.py``), each with ``TITLE`` and
``main(argv=None) -> int``; run one as ``python -m benchmarks PN``."""
