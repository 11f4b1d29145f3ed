/**
 * Coded concepts for segments (PS3.3 C.8.20.2 Segment Description Macro; PS3.16 CID 7150 Segmentation Property
 * Category, CID 7151 Segmentation Property Type, CID 244 Laterality): the defaults medvox fills in from a segment
 * name when the label table does not give codes. A small built-in table of common structures (SNOMED CT codes as
 * DICOM uses them); anything else falls back to the generic Tissue / Tissue pair, which is always valid.
 */

export interface CodedConcept {
  CodeValue: string;
  CodingSchemeDesignator: string;
  CodeMeaning: string;
  CodingSchemeVersion?: string;
}

const sct = (CodeValue: string, CodeMeaning: string): CodedConcept => ({
  CodeValue,
  CodingSchemeDesignator: 'SCT',
  CodeMeaning,
});

/** CID 7150 categories. */
export const Category = {
  Tissue: sct('85756007', 'Tissue'),
  AnatomicalStructure: sct('91723000', 'Anatomical Structure'),
  MorphologicallyAbnormalStructure: sct('49755003', 'Morphologically Abnormal Structure'),
  PhysicalObject: sct('260787004', 'Physical object'),
} as const;

/** The fallback segmented property type (with the Tissue category). */
export const GENERIC_TYPE = sct('85756007', 'Tissue');

/** CID 244 laterality modifiers. */
export const Laterality = {
  Right: sct('24028007', 'Right'),
  Left: sct('7771000', 'Left'),
} as const;

interface BuiltIn {
  /** Lower-case names and synonyms the entry answers to (words separated by single spaces). */
  names: string[];
  category: CodedConcept;
  type: CodedConcept;
}

const anatomy = (names: string[], code: string, meaning: string): BuiltIn => ({
  names,
  category: Category.AnatomicalStructure,
  type: sct(code, meaning),
});

/** Common structures (organs of abdominal / thoracic CT, bones, vessels) and lesions. */
const BUILT_IN: readonly BuiltIn[] = [
  anatomy(['liver'], '10200004', 'Liver'),
  anatomy(['spleen'], '78961009', 'Spleen'),
  anatomy(['kidney'], '64033007', 'Kidney'),
  anatomy(['pancreas'], '15776009', 'Pancreas'),
  anatomy(['gallbladder', 'gall bladder'], '28273000', 'Gallbladder'),
  anatomy(['stomach'], '69695003', 'Stomach'),
  anatomy(['aorta'], '15825003', 'Aorta'),
  anatomy(['inferior vena cava', 'ivc'], '64131007', 'Inferior vena cava'),
  anatomy(['superior vena cava', 'svc'], '48345005', 'Superior vena cava'),
  anatomy(['portal vein'], '32764006', 'Portal vein'),
  anatomy(['pulmonary artery'], '81040000', 'Pulmonary artery'),
  anatomy(['lung'], '39607008', 'Lung'),
  anatomy(['heart'], '80891009', 'Heart'),
  anatomy(['brain'], '12738006', 'Brain'),
  anatomy(['spinal cord'], '2748008', 'Spinal cord'),
  anatomy(['esophagus', 'oesophagus'], '32849002', 'Esophagus'),
  anatomy(['trachea'], '44567001', 'Trachea'),
  anatomy(['urinary bladder', 'bladder'], '89837001', 'Urinary bladder'),
  anatomy(['prostate'], '41216001', 'Prostate'),
  anatomy(['adrenal gland', 'adrenal'], '23451007', 'Adrenal gland'),
  anatomy(['small intestine', 'small bowel'], '30315005', 'Small intestine'),
  anatomy(['colon'], '71854001', 'Colon'),
  anatomy(['duodenum'], '38848004', 'Duodenum'),
  anatomy(['thyroid gland', 'thyroid'], '69748006', 'Thyroid gland'),
  anatomy(['rib'], '113197003', 'Rib'),
  anatomy(['femur'], '71341001', 'Femur'),
  anatomy(['humerus'], '85050009', 'Humerus'),
  anatomy(['scapula'], '79601000', 'Scapula'),
  anatomy(['clavicle', 'clavicula'], '51299004', 'Clavicle'),
  anatomy(['sternum'], '56873002', 'Sternum'),
  anatomy(['sacrum'], '54735007', 'Sacrum'),
  anatomy(['skull'], '89546000', 'Skull'),
  anatomy(['bone'], '272673000', 'Bone'),
  {
    names: ['tumor', 'tumour', 'neoplasm', 'mass'],
    category: Category.MorphologicallyAbnormalStructure,
    type: sct('108369006', 'Neoplasm'),
  },
  { names: ['lesion'], category: Category.MorphologicallyAbnormalStructure, type: sct('52988006', 'Lesion') },
];

const byName = new Map<string, BuiltIn>();
for (const entry of BUILT_IN) for (const name of entry.names) byName.set(name, entry);

export interface DefaultCodes {
  category: CodedConcept;
  type: CodedConcept;
  typeModifier?: CodedConcept;
  /** True when the name matched the built-in table (false: the generic Tissue fallback). */
  matched: boolean;
}

/**
 * Codes for a segment name: "Liver", "kidney_right", "Left lung", "rib_left_3" all match (case, '_' / '-' and a
 * trailing index ignored; left / right become the laterality modifier). Unknown names get Tissue / Tissue.
 */
export function defaultCodesFor(name: string): DefaultCodes {
  const words = name
    .toLowerCase()
    .replace(/[_\-.,()]+/g, ' ')
    .split(/\s+/)
    .filter((word) => word !== '' && !/^\d+$/.test(word));
  let typeModifier: CodedConcept | undefined;
  const rest: string[] = [];
  for (const word of words) {
    if (word === 'left' || word === 'l') typeModifier = Laterality.Left;
    else if (word === 'right' || word === 'r') typeModifier = Laterality.Right;
    else rest.push(word);
  }
  // Longest known phrase first ("inferior vena cava" before "vena"); plurals ("kidneys", "ribs") as singular.
  for (let length = rest.length; length > 0; length--) {
    for (let start = 0; start + length <= rest.length; start++) {
      const phrase = rest.slice(start, start + length).join(' ');
      const entry = byName.get(phrase) ?? byName.get(phrase.replace(/s$/, ''));
      if (entry) {
        return {
          category: entry.category,
          type: entry.type,
          ...(typeModifier ? { typeModifier } : {}),
          matched: true,
        };
      }
    }
  }
  return { category: Category.Tissue, type: GENERIC_TYPE, matched: false };
}
