"""FaceShift training recipe: CycleGAN face transforms and an SRResNet x4 upscaler."""
