"""Memory accounting: what each key costs in a running server (``model``), the per-key
rows ``rdbtool memory`` prints (``rows``), and their aggregation and reports."""
