"""Column names and the genre order, in one place.

Every module that names a column imports it from here, so a rename is one edit.
"""

USER_ID = "userId"
MOVIE_ID = "movieId"
RATING = "rating"
TIMESTAMP = "timestamp"
TITLE = "title"
GENRES = "genres"
YEAR = "year"

RATING_COUNT = "rating count"
RATING_AVE = "rating ave"
AVE_RATING = "ave rating"
NUM_RATINGS = "num ratings"

# Result-table columns (stars, and squared distance in the movie space).
PREDICTED = "predicted stars"
ACTUAL = "actual stars"
ERROR = "error"
DISTANCE = "distance"
# Similar movies: how a neighbour was found (FANS: from the item-to-item table; SPACE: the
# nearest in the model's movie space).
FOUND_BY = "found by"
FOUND_BY_FANS = "its fans also love it"
FOUND_BY_SPACE = "near it in the movie space"
# Reasons (recsys.serving.reasons): one line of text, then its parts for --json.
WHY = "why"
BECAUSE = "because you liked"  # movieIds of the closest liked movies, closest first
GENRE_LIFT = "genre lift"  # {genre: the score it adds}, largest first

RATINGS_COLUMNS = (USER_ID, MOVIE_ID, RATING, TIMESTAMP)
MOVIES_COLUMNS = (MOVIE_ID, TITLE, GENRES)

# The lab's 14 genres, in the lab's order. Other MovieLens genres (War, Western,
# Musical, Film-Noir, IMAX, "(no genres listed)") are kept in `genres` but get no flag.
GENRE_LIST = (
    "Action",
    "Adventure",
    "Animation",
    "Children",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Horror",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
)

NO_GENRES = "(no genres listed)"

# The lab's vector layouts. The first columns are identifiers/statistics that are
# shown but not fed to the network.
ITEM_VECTOR_COLUMNS = (MOVIE_ID, YEAR, AVE_RATING, *GENRE_LIST)
USER_VECTOR_COLUMNS = (USER_ID, RATING_COUNT, RATING_AVE, *GENRE_LIST)
ITEM_NOT_TRAINED = (MOVIE_ID,)
USER_NOT_TRAINED = (USER_ID, RATING_COUNT, RATING_AVE)
ITEM_FEATURES = ITEM_VECTOR_COLUMNS[len(ITEM_NOT_TRAINED) :]  # 16 network inputs
USER_FEATURES = USER_VECTOR_COLUMNS[len(USER_NOT_TRAINED) :]  # 14 network inputs
