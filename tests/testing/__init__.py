"""Tests of reqbed/testing/."""
