from chcsearch.cli import main

main()
