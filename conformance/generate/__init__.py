"""Hypothesis strategies for the suite's requests: valid ones (`requests`), invalid ones that each break
one rule (`invalid`), and the variants each group claims to cover with the examples that cover them
(`coverage`). Pure: nothing here knows of sockets."""
