//! componentbase
