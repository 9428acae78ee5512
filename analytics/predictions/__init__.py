"""Predicted churn and CLV: `model` holds the BG/NBD and Gamma-Gamma math (numpy, scipy),
`summaries` reads each customer's purchase summary out of the database. Neither is imported
when Django starts: numpy and scipy load when a fit runs."""
