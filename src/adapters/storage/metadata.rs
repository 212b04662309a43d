//! Pictures lose their metadata before they are stored (issue 11, finding 9): a phone's
//! JPEG carries EXIF (often the GPS position where it was taken), XMP, IPTC and comments,
//! and a profile picture is public.
//!
//! One pass over the header segments up to the image data (start of scan): `APP1` (EXIF,
//! XMP), `APP3`–`APP13` (IPTC, vendor data), `APP15` and comments are dropped; `APP0` (JFIF),
//! `APP2` (ICC colour profile), `APP14` (Adobe colour transform) and the segments the image
//! needs (tables, frame header) are kept; the entropy-coded data is copied as it is. Each
//! segment's length is checked against what is left, so the work is linear and bounded by
//! the upload limit; where the header stops making sense, the rest is copied unchanged.

/// Whether a marker's segment is metadata to drop.
fn is_metadata(marker: u8) -> bool {
    matches!(marker, 0xE1 | 0xE3..=0xED | 0xEF | 0xFE)
}

/// `bytes` without its metadata segments (a JPEG), or unchanged (anything else).
pub fn strip_jpeg_metadata(bytes: &[u8]) -> Vec<u8> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return bytes.to_vec();
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..2]);
    let mut at = 2;
    while at + 4 <= bytes.len() && bytes[at] == 0xFF {
        let marker = bytes[at + 1];
        if marker == 0xFF {
            // A fill byte before a marker.
            at += 1;
            continue;
        }
        // Start of scan, end of image, restart markers, TEM: no more header segments.
        if matches!(marker, 0xDA | 0xD9 | 0xD0..=0xD7 | 0x01 | 0x00) {
            break;
        }
        let length = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        let end = at + 2 + length;
        if length < 2 || end > bytes.len() {
            break;
        }
        if !is_metadata(marker) {
            out.extend_from_slice(&bytes[at..end]);
        }
        at = end;
    }
    out.extend_from_slice(&bytes[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, marker];
        s.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
        s.extend_from_slice(payload);
        s
    }

    #[test]
    fn exif_xmp_and_comments_go_and_the_image_stays() {
        let jfif = segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        let exif = segment(0xE1, b"Exif\0\0MM\0*GPSLatitude 48.8584");
        let icc = segment(0xE2, b"ICC_PROFILE\0\x01\x01");
        let comment = segment(0xFE, b"taken at home");
        let dqt = segment(0xDB, &[0; 65]);
        let scan = [
            &segment(0xDA, &[1, 1, 0, 0, 0x3F, 0])[..],
            &[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD9],
        ]
        .concat();
        let picture = [&[0xFF, 0xD8][..], &jfif, &exif, &icc, &comment, &dqt, &scan].concat();
        let clean = strip_jpeg_metadata(&picture);
        let expected = [&[0xFF, 0xD8][..], &jfif, &icc, &dqt, &scan].concat();
        assert_eq!(clean, expected);
    }

    #[test]
    fn a_broken_header_is_copied_from_where_it_breaks() {
        let odd = [0xFF, 0xD8, 0xFF, 0xE0, 0x42, 0x42, 0x42];
        assert_eq!(strip_jpeg_metadata(&odd), odd);
        assert_eq!(strip_jpeg_metadata(b"not a jpeg"), b"not a jpeg");
    }
}
