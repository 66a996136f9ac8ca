//! Everyday remittance texts and merchant names, in Russian, Kazakh and
//! English as people in Kazakhstan actually write them: short, often
//! empty, sometimes with an emoji. Exchangers' clients sometimes
//! name what they are paying for ("USDT", "обмен", "p2p", "за крипту");
//! most do not, so a keyword rule alone cannot find them.

/// Between friends and acquaintances.
pub(crate) const FRIENDS: &[&str] = &[
    "",
    "",
    "",
    "за обед",
    "долг",
    "спасибо!",
    "на такси",
    "за билеты",
    "қарыз",
    "рахмет",
    "for dinner",
    "за кофе",
    "верну в пятницу",
    "за подарок",
    "кафе",
    "за продукты",
    "бензин",
    "перевод",
    "аударым",
    "за концерт",
    "свои",
    "тойға",
    "за футбол",
];

/// Within a family.
pub(crate) const FAMILY: &[&str] = &[
    "",
    "",
    "на продукты",
    "маме",
    "папе",
    "на бензин",
    "на карманные расходы",
    "на лекарства",
    "коммуналка",
    "балаларға",
    "үйге",
    "за садик",
    "для бабушки",
    "анама",
    "groceries",
    "на кружки",
];

/// Birthday gifts.
pub(crate) const BIRTHDAY: &[&str] = &[
    "С днём рождения!",
    "С днюхой!",
    "Туған күніңмен!",
    "Happy birthday!",
    "HB 🎂",
    "С ДР!",
    "поздравляю",
    "туған күнің құтты болсын",
    "",
    "",
    "подарок",
    "от группы",
];

/// From parents to a student.
pub(crate) const ALLOWANCE: &[&str] = &[
    "",
    "на неделю",
    "на еду",
    "на проезд",
    "за общежитие",
    "оқуға",
    "на книги",
    "от мамы",
    "от папы",
];

/// Rent and bills.
pub(crate) const BILLS: &[&str] = &[
    "аренда квартиры",
    "за квартиру",
    "пәтер ақысы",
    "коммунальные услуги",
    "интернет",
    "ЖКХ за месяц",
];

/// What victims of fraud write when they pay a mule's card (a fake seller,
/// a fake landlord, a "safe account", a loan "insurance").
pub(crate) const VICTIMS: &[&str] = &[
    "",
    "",
    "",
    "перевод",
    "предоплата",
    "за товар",
    "залог",
    "предоплата за аренду",
    "долг",
    "по договоренности",
    "за авто",
    "депозит",
    "инвестиции",
    "страховка по кредиту",
    "на безопасный счет",
    "доставка",
];

/// What a shadow exchanger's clients write when they buy USDT: mostly
/// nothing telling.
pub(crate) const EXCHANGER_PAYERS_PLAIN: &[&str] = &[
    "",
    "",
    "",
    "",
    "перевод",
    "за товар",
    "долг",
    "оплата",
    "аударым",
];

/// The few who do say it.
pub(crate) const EXCHANGER_PAYERS_CRYPTO: &[&str] = &[
    "USDT",
    "usdt",
    "обмен",
    "p2p",
    "за крипту",
    "за usdt",
    "USDT trc20",
    "P2P обмен",
];

/// What a shadow exchanger writes when it pays a seller of USDT.
pub(crate) const EXCHANGER_PAYEES: &[&str] =
    &["", "", "", "", "", "p2p", "перевод", "возврат", "ок"];

/// Transfers and top-ups of a structurer.
pub(crate) const STRUCTURER: &[&str] = &[
    "",
    "",
    "пополнение",
    "перевод",
    "на счет",
    "за машину",
    "для бизнеса",
    "возврат долга",
    "свои",
];

/// Card top-ups.
pub(crate) const TOPUP: &[&str] = &[
    "",
    "",
    "пополнение карты",
    "пополнение",
    "top up",
    "картаны толтыру",
];

/// Crypto purchases and sales at a platform.
pub(crate) const CRYPTO: &[&str] = &["", "", "", "USDT", "BTC", "покупка USDT", "ETH", "TON"];

/// Payments to suppliers and from business customers.
pub(crate) const SUPPLIERS: &[&str] = &[
    "оплата за товар",
    "по договору поставки",
    "оплата по счету",
    "поставка",
    "аренда торгового места",
    "за услуги",
];

/// What a trader's customers write when they pay for goods by phone
/// number to the trader's personal card.
pub(crate) const TRADER_CUSTOMERS: &[&str] = &[
    "",
    "",
    "",
    "за товар",
    "за товар",
    "оплата заказа",
    "предоплата",
    "оплата",
    "за заказ",
    "доплата",
    "тауар үшін",
    "тапсырыс",
    "с доставкой",
    "спасибо",
];

/// What a trader writes when paying a supplier or wholesaler for stock.
pub(crate) const TRADER_SUPPLIERS: &[&str] = &[
    "",
    "поставка",
    "поставка",
    "за товар",
    "оплата за партию",
    "оплата по накладной",
    "предоплата за товар",
    "за товар, остаток",
    "тауар үшін",
    "опт",
];

/// QR and phone transfers to a small shop's card.
pub(crate) const SHOP_TRANSFERS: &[&str] = &[
    "",
    "",
    "",
    "",
    "оплата",
    "за заказ",
    "QR",
    "спасибо",
    "за доставку",
];

/// Merchants that take card payments in Kazakhstan.
pub(crate) const MERCHANTS: &[&str] = &[
    "Magnum Cash&Carry",
    "Small",
    "Galmart",
    "Anvar",
    "Sulpak",
    "Technodom",
    "Mechta.kz",
    "Arbuz.kz",
    "Yandex Go",
    "Chocofood",
    "Glovo",
    "Wolt",
    "Coffee Boom",
    "Starbucks",
    "KFC",
    "Burger King",
    "Sinooil",
    "Helios",
    "Qazaq Oil",
    "Gas Energy",
    "Europharma",
    "Biosfera",
    "Marwin",
    "Meloman",
    "Kinopark",
    "Chaplin",
    "Dodo Pizza",
    "Salam Bro",
    "Air Astana",
    "Temir Zholy",
    "Beeline KZ",
    "Kcell",
    "Kazakhtelecom",
    "Alseco",
    "LC Waikiki",
    "Wildberries",
    "Ozon",
    "Lamoda",
    "Flip.kz",
    "Toimart",
];

/// Foreign merchants for card payments in dollars: country and name.
pub(crate) const FOREIGN_MERCHANTS: &[(&str, &str)] = &[
    ("TR", "Turkish Airlines"),
    ("TR", "Migros Antalya"),
    ("AE", "Dubai Mall"),
    ("AE", "Emirates"),
    ("GE", "Carrefour Tbilisi"),
    ("TH", "7-Eleven Phuket"),
    ("US", "Amazon"),
    ("US", "Apple.com"),
    ("UZ", "Korzinka Tashkent"),
    ("KG", "Globus Bishkek"),
];

/// Salary texts: Russian and Kazakh, the advance and the final payment.
pub(crate) fn salary(style: u8, advance: bool, month: usize, year: i64) -> String {
    let ru = super::calendar::MONTHS_RU
        .get(month)
        .copied()
        .unwrap_or("март");
    let kk = super::calendar::MONTHS_KK
        .get(month)
        .copied()
        .unwrap_or("наурыз");
    match (style % 3, advance) {
        (0, false) => format!("Заработная плата за {ru} {year} г."),
        (0, true) => format!("Аванс за {ru} {year} г."),
        (1, false) => format!("{year} ж. {kk} айының жалақысы"),
        (1, true) => format!("{year} ж. {kk} айының аванс"),
        (_, false) => format!("зарплата за {ru}"),
        (_, true) => format!("аванс за {ru}"),
    }
}

/// What a link of a layering chain writes when it passes money on: mostly
/// nothing, sometimes a word that explains nothing.
pub(crate) const CHAIN: &[&str] = &[
    "",
    "",
    "",
    "",
    "перевод",
    "долг",
    "возврат",
    "аударым",
    "за товар",
    "займ",
    "свои",
];

/// What hubs and their payers and payees write: trade, services, loans,
/// nothing.
pub(crate) const HUB: &[&str] = &[
    "",
    "",
    "",
    "перевод",
    "за товар",
    "оплата по договору",
    "за услуги",
    "возврат долга",
    "займ",
    "по счету",
    "предоплата",
    "аударым",
];

/// Round-tripping through a ring: loans and contracts that explain the
/// money coming back.
pub(crate) const CYCLE: &[&str] = &[
    "",
    "по договору займа",
    "возврат займа",
    "оплата по договору",
    "за услуги",
    "за товар",
    "возврат",
    "взаиморасчет",
    "перевод",
];

/// A family passing a larger sum along: for a purchase or an occasion.
pub(crate) const FAMILY_SUM: &[&str] = &[
    "",
    "",
    "на машину",
    "на ремонт",
    "передай маме",
    "на свадьбу",
    "тойға",
    "вернула",
    "на лечение",
    "на учебу",
    "для бабушки",
    "на первый взнос",
];

/// Buyers paying a marketplace order.
pub(crate) const MARKETPLACE_BUYERS: &[&str] = &[
    "",
    "",
    "оплата заказа",
    "заказ",
    "за заказ",
    "оплата товара",
    "тапсырыс",
    "order",
];

/// A marketplace paying its sellers for the week.
pub(crate) const MARKETPLACE_PAYOUTS: &[&str] = &[
    "выплата продавцу",
    "расчет за неделю",
    "выплата по договору оферты",
    "перечисление выручки",
    "вознаграждение продавцу",
];

/// Tenants paying rent.
pub(crate) const RENT: &[&str] = &[
    "аренда квартиры",
    "за квартиру",
    "пәтер ақысы",
    "аренда",
    "оплата аренды",
    "за аренду",
    "",
];

/// Moving money between one's own accounts.
pub(crate) const OWN_ACCOUNTS: &[&str] = &[
    "",
    "",
    "на депозит",
    "перевод между своими счетами",
    "в копилку",
    "пополнение депозита",
    "жинақ",
    "сбережения",
];
