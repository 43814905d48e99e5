"""RetinaTrack (Lu et al., CVPR 2020): RetinaNet with per-anchor instance embeddings."""
