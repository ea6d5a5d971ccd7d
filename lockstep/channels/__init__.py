"""Lists: private (the vendor-sec / distros role) and public (the oss-security role)."""
