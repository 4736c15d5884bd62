import sys
def test_probe():
    import cti
    print("CTI", cti.__file__, __name__)
