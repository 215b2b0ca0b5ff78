"""The pipeline's model: leads, scoring, sales processes and opportunities."""
