"""Data contracts: the project's declarations as Open Data Contract Standard v3.1.0 documents and back."""
