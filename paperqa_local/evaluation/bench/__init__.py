"""``paperqa-local eval bench``: indexing, search and answer figures of one run, beside a plain LlamaIndex.

One module per section (``index_throughput``, ``search_latency``, ``answer_latency``,
``llamaindex_baseline``); ``context`` holds what the sections share, ``runner`` runs them in order
and ``report`` turns the results into bench.json, bench.md and PNG charts. Figures are measurements
of this run on this machine, never pass/fail assertions.
"""
