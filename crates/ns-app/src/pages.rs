mod dandiset;
mod home;
mod nwb;

pub use dandiset::DandisetPage;
pub use home::HomePage;
pub use nwb::NwbPage;
