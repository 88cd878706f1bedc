"""Running the suite: the HTTP client with its budget and limits, the groups and their probes, the
Hypothesis runner, and the session that picks the server and the model."""
