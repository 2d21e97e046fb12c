"""Text helpers the agents share: sentences and words, required-word matching, citations,
compression and embeddings."""
