"""Tests of reqbed/_aws/."""
