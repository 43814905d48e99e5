"""Dataset adapters, the common annotation schema, samplers, transforms and the DataModule."""
