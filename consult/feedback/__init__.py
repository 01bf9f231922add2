"""Feedback: the loop back to respondents, after analysis.

It reads what intake stored and what analysis found, and writes each institution a workbook
of its own answers with what to correct. It is a stage of its own, last in the pipeline, so
that no earlier stage has to import it and it may import any of them.
"""
