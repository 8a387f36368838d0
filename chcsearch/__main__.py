from chcsearch.console import main

main()
