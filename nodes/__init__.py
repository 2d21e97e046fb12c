"""The agents of the refinement graph: one module each, each a function of the state that
returns a partial update."""
