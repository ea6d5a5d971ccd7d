"""CVE identifiers: local allocation from a CNA block, or CVE Services through cvelib."""
