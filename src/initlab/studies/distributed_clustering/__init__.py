"""Distributed gradient clustering (DGC-F_rho) and the effect of initialisation.

Armacki, Sharma, Bajovic, Jakovetic, Chakraborty & Kar, arXiv 2603.20507 (Asilomar 2024);
brief: shared/studies/distributed_clustering.md.
"""
