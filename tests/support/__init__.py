"""What tests, load tests and benches share: servers, remotes, JSON-RPC checks, topics and builders.

Imported as `tests.support` (pytest puts the repository on sys.path; a bench adds it itself).
"""
