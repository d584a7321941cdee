"""Benchmarks that print figures (``bench_*.py``, run as scripts), and the synthetic data and browser
helpers they share with the tests (``_seed.py``, ``_browser.py``, ``_synthetic.sql``)."""
