"""Benchmarks, kept outside the test suite: each module has a ``main()`` that prints its
figures as ratios against anchors measured in the same run and appends them to
``docs/performance.md``. Run them all with ``python -m bench`` (or ``make bench``)."""
