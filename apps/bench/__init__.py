"""apps/bench"""
