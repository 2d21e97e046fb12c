"""The refinement graph: its wiring (`builder`) and routers (`routing`)."""
