# physdl.lattice (package initialiser; the lattice engine fills this in)
