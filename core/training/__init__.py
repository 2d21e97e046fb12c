"""The loop teaches the model: training data from the engine's own checked answers, LoRA
fine-tuning on CPU, export to GGUF for the local server, evaluation before promotion, and the
retraining trigger."""
