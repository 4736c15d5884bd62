"""What every entry point shares to decide who is calling: PIN hashes and the one login-throttling policy."""
