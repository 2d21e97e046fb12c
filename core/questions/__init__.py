"""Questions over documents: what a question needs, and what a right answer to it says."""
