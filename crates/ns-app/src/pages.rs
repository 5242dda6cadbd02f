mod dandiset;
mod figure;
mod home;
mod nwb;

pub use dandiset::DandisetPage;
pub use figure::FigurePage;
pub use home::HomePage;
pub use nwb::NwbPage;
