"""Operations: worker heartbeats and the health report."""
