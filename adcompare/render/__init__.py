"""Renderers: one module per output format; they read Results and never compute derivatives."""
