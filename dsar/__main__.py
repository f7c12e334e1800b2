from .cli import main

if __name__ == "__main__":  # a worker process (forkserver) imports this module too
    main()
