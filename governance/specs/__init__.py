"""Declarative files → typed models with FILE:LINE locations."""
