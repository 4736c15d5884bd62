"""Reporting: one call-detail record per call (``call_details``), the traffic reports over it and the agent
state log, Erlang C staffing, and their outputs (web page, XLSX/CSV, ``hotline reports``)."""
