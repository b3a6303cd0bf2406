from c2watch.cli import main

main()
