"""The example builder: fills real workbooks as a respondent would.

Used by tests, the benchmark and ``examples/make_examples.py``; never by a command at run time."""
