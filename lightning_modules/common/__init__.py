"""Parts shared by the papers' models: backbones, losses, schedules."""
