"""Model capacity that follows the traffic: demand forecasts (`forecast`), the scaling decision
(`scaler`), one decision across replicas (`coordinator`), and what carries it out: instances of
a model server started and drained on this machine (`fleet`), or the desired count published
for an external autoscaler (`service`, `GET /v1/scaling`, `refinery_scaling_desired_instances`).
"""
