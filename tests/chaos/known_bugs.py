"""Product bugs the suite has found and not yet seen fixed: the reasons of its xfail marks.

Each mark also names the exception it expects (`raises=NotConverged`, ...), so a test that
fails for any other reason still fails. When a fix lands, the strict marks turn into
failures (XPASS): remove the mark and the reason here. Marks on random workloads are not
strict (a random run hits a bug only when it lands in its window).
"""

# None open: every bug the suite found is fixed and its scenario is a regression test.
