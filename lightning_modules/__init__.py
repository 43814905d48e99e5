"""LightningModules, one subpackage per paper, plus shared parts in ``common``."""
