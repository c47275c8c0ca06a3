"""Tests of reqbed/_families/."""
