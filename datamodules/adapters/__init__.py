"""Dataset adapters: each parses one on-disk annotation format into a :class:`~datamodules.schema.VideoIndex`."""
